"""Start-up time and memory of the `physode` command against `import torch`."""
