"""Qt-free, torch-free core: annotations, images, geometry, measurement, metrics, data.

A QA script can use this layer alone. Never import torch, PySide6 or pyqtgraph here.
"""
