"""iunet-gui: label surface defects, train IU-Net, measure and review predictions.

Importing this package must stay cheap: no torch, no Qt here.
"""
__version__ = "0.1.0"
