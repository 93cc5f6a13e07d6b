"""Segmentation networks (torch). Import this package only where torch is wanted."""
