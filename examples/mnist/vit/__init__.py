"""A small vision transformer on (Fashion-)MNIST: ``model`` defines it, ``train`` trains it."""
