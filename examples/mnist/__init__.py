"""(Fashion-)MNIST examples: a small convnet (``cnn``) and a small vision
transformer (``vit``), sharing data loading (``data``) and the training loop (``trainer``)."""
