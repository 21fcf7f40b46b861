"""The demo and evaluation harness: does Wedge Dropout help, and what does it actually do?

Trains small Conv-BN-ReLU networks with the PyTorch adapter on three offline tasks
(`data`), one model per task (`models`), under several dropout arms (`arms`), over
paired seeds (`training`), then compares every arm with no dropout (`stats`) and
writes a table, a markdown report and plots (`report`). Run it with
``python -m experiments --help`` from the repository root; it is not part of the
installed package.
"""
