"""A small convnet on (Fashion-)MNIST: ``model`` defines it, ``train`` trains it."""
