"""Training: the `train` function (Ray Train TorchTrainer) and the model families it builds."""
