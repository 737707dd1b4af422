"""A small convnet for 28x28 grey images: two 3x3 conv + ReLU + 2x2 max-pool
stages (8 and 16 channels) and a linear classifier."""
import tensorgrad
from tensorgrad import nn


class ConvNet(nn.Module):
    """(B, 1, 28, 28) images -> (B, num_classes) logits."""

    def __init__(self, num_classes=10, channels=(8, 16)):
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c2 * 7 * 7, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


if __name__ == '__main__':
    print(ConvNet())
    print(ConvNet()(tensorgrad.zeros(2, 1, 28, 28)).shape)
