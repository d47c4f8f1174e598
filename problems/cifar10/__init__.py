"""CIFAR-10 classification with the paper's AlexNet / ResNet-4 / ResNet-10 (baseline and ODE variants).

``data`` loads and augments on the device, ``models`` builds arch x variant, ``train`` runs the
recipe with exact resume and data parallel, ``cli`` adds ``physode train|evaluate cifar10``.
"""
