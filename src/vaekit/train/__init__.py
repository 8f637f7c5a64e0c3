"""Training: a loop that knows nothing about VAEs, safe checkpoints, and the runner that wires a run."""
