"""A variational auto-encoder in the style of the PyTorch VAE example: an MLP
encoder to (mu, logvar), the reparameterisation trick, BCE + KL divergence,
Adam. The training noise comes from NumPy so both libraries see the same eps;
the final sampling uses ``torch.randn_like`` / ``torch.randn``."""
import numpy as np
import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F

D, H, Z = 64, 32, 4


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(D, H)
        self.fc21 = nn.Linear(H, Z)
        self.fc22 = nn.Linear(H, Z)
        self.fc3 = nn.Linear(Z, H)
        self.fc4 = nn.Linear(H, D)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps=None):
        std = torch.exp(0.5 * logvar)
        if eps is None:
            eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps=None):
        mu, logvar = self.encode(x.view(-1, D))
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar


# Reconstruction + KL divergence losses summed over all elements and batch
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, D), reduction='sum')
    # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def main(init_state=None, seed=0, epochs=3, batch_size=8):
    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    images = torch.from_numpy(rng.beta(0.5, 0.5, size=(40, 1, 8, 8)).astype(np.float32))
    dataset = torch.utils.data.TensorDataset(images, torch.zeros(40, dtype=torch.long))
    train_loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)

    model = VAE()
    if init_state is not None:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in init_state.items()})
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    model = model.to(device)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    epoch_losses, step_losses, first_grads = [], [], None
    for epoch in range(1, epochs + 1):
        model.train()
        train_loss = 0
        for batch_idx, (data, _) in enumerate(train_loader):
            data = data.to(device)
            eps = torch.from_numpy(rng.standard_normal((data.size(0), Z)).astype(np.float32)).to(device)
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data, eps)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            if first_grads is None:
                first_grads = [p.grad.detach().clone() for p in model.parameters()]
            train_loss += loss.item()
            step_losses.append(loss.item())
            optimizer.step()
        epoch_losses.append(train_loss / len(train_loader.dataset))

    model.eval()
    with torch.no_grad():
        recon, mu, logvar = model(images[:5].to(device))  # eps from torch.randn_like
        sample = torch.randn(6, Z).to(device)
        sample = model.decode(sample).cpu()
        mu_only = model.decode(mu)
    return {
        'init_state': initial,
        'step_losses': step_losses,
        'epoch_losses': epoch_losses,
        'first_grads': first_grads,
        'params': [p for p in model.parameters()],
        'mu': mu,
        'logvar': logvar,
        'decoded_mu': mu_only,
        # sampled values differ between libraries: compare what does not depend on the draw
        'recon_shape': tuple(recon.shape),
        'sample_shape': tuple(sample.shape),
        'sample_in_unit_interval': bool(((sample >= 0) & (sample <= 1)).all()),
        'sample_is_float32': sample.dtype == torch.float32,
    }
