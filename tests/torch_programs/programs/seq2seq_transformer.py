"""A Transformer seq2seq model learning to reverse digit strings: token
embeddings scaled by sqrt(d_model), a sinusoidal positional-encoding buffer,
``nn.Transformer(batch_first=True)`` with a causal target mask from
``generate_square_subsequent_mask`` and key-padding masks, cross entropy with
``ignore_index``, then greedy decoding with the encoder and decoder separately."""
import math

import numpy as np
import torch
import torch.nn as nn
from torch import Tensor

PAD, BOS, EOS = 0, 1, 2
VOCAB = 13  # specials + digits 0-9


class PositionalEncoding(nn.Module):
    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 64):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer('pe', pe)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.pe[:, :x.size(1)]
        return self.dropout(x)


class Seq2SeqTransformer(nn.Module):
    def __init__(self, d_model=16, nhead=2, num_layers=1, dim_feedforward=32, dropout=0.0):
        super().__init__()
        self.d_model = d_model
        self.src_tok_emb = nn.Embedding(VOCAB, d_model)
        self.tgt_tok_emb = nn.Embedding(VOCAB, d_model)
        self.positional_encoding = PositionalEncoding(d_model, dropout=dropout)
        self.transformer = nn.Transformer(d_model=d_model, nhead=nhead, num_encoder_layers=num_layers,
                                          num_decoder_layers=num_layers, dim_feedforward=dim_feedforward,
                                          dropout=dropout, batch_first=True)
        self.generator = nn.Linear(d_model, VOCAB)

    def embed_src(self, src):
        return self.positional_encoding(self.src_tok_emb(src) * math.sqrt(self.d_model))

    def embed_tgt(self, tgt):
        return self.positional_encoding(self.tgt_tok_emb(tgt) * math.sqrt(self.d_model))

    def forward(self, src, tgt, tgt_mask, src_padding_mask, tgt_padding_mask):
        outs = self.transformer(self.embed_src(src), self.embed_tgt(tgt), tgt_mask=tgt_mask,
                                src_key_padding_mask=src_padding_mask,
                                tgt_key_padding_mask=tgt_padding_mask,
                                memory_key_padding_mask=src_padding_mask)
        return self.generator(outs)

    def encode(self, src, src_padding_mask=None):
        return self.transformer.encoder(self.embed_src(src), src_key_padding_mask=src_padding_mask)

    def decode(self, tgt, memory, tgt_mask):
        return self.transformer.decoder(self.embed_tgt(tgt), memory, tgt_mask=tgt_mask)


def make_batch(rng, batch_size, max_len=6):
    """Random digit strings of varying length, padded; targets are the reversed strings."""
    lengths = rng.randint(2, max_len + 1, size=batch_size)
    src = np.full((batch_size, max_len + 1), PAD, dtype=np.int64)
    tgt = np.full((batch_size, max_len + 2), PAD, dtype=np.int64)
    for b, n in enumerate(lengths):
        digits = rng.randint(0, 10, size=n) + 3
        src[b, :n] = digits
        src[b, n] = EOS
        tgt[b, 0] = BOS
        tgt[b, 1:n + 1] = digits[::-1]
        tgt[b, n + 1] = EOS
    return torch.from_numpy(src), torch.from_numpy(tgt)


def greedy_decode(model, src, max_len):
    memory = model.encode(src)
    ys = torch.full((src.size(0), 1), BOS, dtype=torch.long)
    for _ in range(max_len - 1):
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(ys.size(1))
        out = model.decode(ys, memory, tgt_mask)
        prob = model.generator(out[:, -1])
        _, next_word = torch.max(prob, dim=1)
        ys = torch.cat([ys, next_word.unsqueeze(1)], dim=1)
    return ys


def main(init_state=None, seed=0, steps=6, batch_size=8):
    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    model = Seq2SeqTransformer()
    if init_state is None:
        for p in model.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
    else:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in init_state.items()})
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD)
    # eps (the tutorials use 1e-9): the attention key bias has an exactly-zero gradient, computed as
    # ~1e-9 rounding noise, which a tiny eps turns into lr-sized steps that differ between libraries
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-4)

    losses, first_grads = [], None
    model.train()
    for step in range(steps):
        src, tgt = make_batch(rng, batch_size)
        tgt_input = tgt[:, :-1]
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(tgt_input.size(1))
        src_padding_mask = (src == PAD)
        tgt_padding_mask = (tgt_input == PAD)
        logits = model(src, tgt_input, tgt_mask, src_padding_mask, tgt_padding_mask)
        optimizer.zero_grad()
        tgt_out = tgt[:, 1:]
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
        loss.backward()
        if first_grads is None:
            first_grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        optimizer.step()
        losses.append(loss.item())

    model.eval()
    src, _ = make_batch(rng, 3)
    with torch.no_grad():
        memory = model.encode(src)
        decoded = greedy_decode(model, src, max_len=5)
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    return {
        'init_state': initial,
        'mask': mask,
        'losses': losses,
        'first_grads': first_grads,
        'final_state': model.state_dict(),
        'memory': memory,
        'decoded': decoded,
    }
