"""Stance of Seoul toward the US, China, Japan, North Korea and Russia; shifts in it.

Plain Python and PyTorch: no Prefect, no database.
"""
