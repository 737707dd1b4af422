"""A tiny Vision Transformer: Conv2d patch embedding, a class token and learned
position embeddings, pre-norm ``nn.TransformerEncoderLayer`` blocks (GELU),
an ``nn.MultiheadAttention`` pooling head returning averaged attention weights,
label smoothing, AdamW and a cosine schedule with ``optimizer.param_groups``."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class PatchEmbed(nn.Module):
    def __init__(self, img_size=8, patch_size=4, in_chans=3, embed_dim=16):
        super().__init__()
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # (B, N, D)


class ViT(nn.Module):
    def __init__(self, num_classes=3, embed_dim=16, depth=2, num_heads=2):
        super().__init__()
        self.patch_embed = PatchEmbed(embed_dim=embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches + 1, embed_dim))
        layer = nn.TransformerEncoderLayer(embed_dim, num_heads, dim_feedforward=2 * embed_dim, dropout=0.0,
                                           activation='gelu', batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.pool = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, x, return_attention=False):
        x = self.patch_embed(x)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls, x), dim=1) + self.pos_embed
        x = self.norm(self.encoder(x))
        query = x[:, :1]
        pooled, weights = self.pool(query, x, x, need_weights=True, average_attn_weights=True)
        logits = self.head(pooled.squeeze(1))
        return (logits, weights) if return_attention else logits


def init_from_numpy(model, rng):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('bias'):
                p.zero_()
            elif 'norm' in name:
                p.fill_(1.0)
            else:
                p.copy_(torch.from_numpy(np.clip(rng.standard_normal(tuple(p.shape)), -2, 2).astype(np.float32)
                                        * 0.2))


def main(seed=0, steps=4, batch_size=6):
    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    model = ViT()
    init_from_numpy(model, rng)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    # eps: the key projection's bias has an exactly-zero gradient (softmax ignores a per-query shift)
    # which comes out as ~1e-9 rounding noise; with Adam's default eps the noise becomes lr-sized steps
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05, eps=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    losses, lrs, first_grads = [], [], None
    model.train()
    for step in range(steps):
        images = torch.from_numpy(rng.standard_normal((batch_size, 3, 8, 8)).astype(np.float32))
        labels = torch.from_numpy(rng.randint(0, 3, size=batch_size))
        loss = criterion(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        if first_grads is None:
            first_grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        lrs.append(optimizer.param_groups[0]['lr'])
    model.eval()
    with torch.no_grad():
        images = torch.from_numpy(rng.standard_normal((2, 3, 8, 8)).astype(np.float32))
        logits, weights = model(images, return_attention=True)
        probs = F.softmax(logits, dim=-1)
    return {
        'param_names': [n for n, _ in model.named_parameters()],
        'losses': losses,
        'lrs': lrs,
        'first_grads': first_grads,
        'params': dict(model.named_parameters()),
        'eval_probs': probs,
        'attn_weights': weights,
    }
