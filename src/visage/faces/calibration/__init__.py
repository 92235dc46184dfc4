"""The face engine's score model: how far apart the same person's and different people's
embeddings fall, measured on labelled photos (see docs/biometrics.md, "Calibration")."""
