"""A small vision transformer for 28x28 grey images: non-overlapping
``patch_size`` patches embedded linearly plus a learned position embedding,
``num_layers`` pre-norm encoder layers (multi-head self-attention and an MLP,
each in a residual branch after a LayerNorm), a final LayerNorm, mean pooling
over the patches and a linear classifier."""
import tensorgrad
from tensorgrad import nn


class PatchEmbedding(nn.Module):
    """(B, C, H, W) images -> (B, num_patches, embed) patch embeddings."""

    def __init__(self, image_size=28, patch_size=4, in_channels=1, embed=128):
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"PatchEmbedding: patch_size {patch_size} does not divide image_size {image_size}")
        self.patch_size = patch_size
        self.num_patches = (image_size // patch_size) ** 2
        self.proj = nn.Linear(in_channels * patch_size * patch_size, embed)
        self.pos = nn.Parameter(tensorgrad.randn(1, self.num_patches, embed) * 0.02)

    def forward(self, x):
        b, c, h, w = x.shape
        p = self.patch_size
        patches = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).reshape(b, -1, c * p * p)
        return self.proj(patches) + self.pos


class EncoderLayer(nn.Module):
    """Pre-norm transformer encoder layer: ``x + attn(ln(x))``, then ``x + mlp(ln(x))``."""

    def __init__(self, embed, num_heads, mlp_ratio=2):
        super().__init__()
        self.norm1 = nn.LayerNorm(embed)
        self.attn = nn.MultiheadAttention(embed, num_heads, batch_first=True)
        self.norm2 = nn.LayerNorm(embed)
        self.mlp = nn.Sequential(nn.Linear(embed, mlp_ratio * embed), nn.ReLU(), nn.Linear(mlp_ratio * embed, embed))

    def forward(self, x):
        h = self.norm1(x)
        a = self.attn(h, h, h)
        if isinstance(a, tuple):  # PyTorch's (output, weights)
            a = a[0]
        x = x + a
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    """(B, 1, 28, 28) images -> (B, num_classes) logits."""

    def __init__(self, patch_size=4, embed=128, num_heads=2, num_layers=1, num_classes=10, image_size=28):
        super().__init__()
        self.embed = PatchEmbedding(image_size, patch_size, 1, embed)
        self.encoder = nn.Sequential(*[EncoderLayer(embed, num_heads) for _ in range(num_layers)])
        self.norm = nn.LayerNorm(embed)
        self.head = nn.Linear(embed, num_classes)

    def forward(self, x):
        h = self.norm(self.encoder(self.embed(x)))
        return self.head(h.mean(1))


if __name__ == '__main__':
    print(ViT())
    print(ViT()(tensorgrad.zeros(2, 1, 28, 28)).shape)
