"""The training engine (trainer, checkpoints, exports). Names shared with code
that must not import torch to know them (the CLI's --resume checks) live here."""

CHECKPOINT_FILE = "checkpoint.safetensors"  # in a run folder; --resume looks for it
