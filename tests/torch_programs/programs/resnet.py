"""A small CIFAR-style ResNet: BasicBlocks with BatchNorm2d and projection
shortcuts, AdaptiveAvgPool2d, kaiming init, SGD with Nesterov momentum and
weight decay, a MultiStepLR schedule, train()/eval() and accuracy counting."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super(BasicBlock, self).__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)

        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(self.expansion * planes)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        out = F.relu(out)
        return out


class ResNet(nn.Module):
    def __init__(self, block, num_blocks, num_classes=5, width=4):
        super(ResNet, self).__init__()
        self.in_planes = width
        self.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = self._make_layer(block, width, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, 2 * width, num_blocks[1], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear = nn.Linear(2 * width * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, block, planes, num_blocks, stride):
        strides = [stride] + [1] * (num_blocks - 1)
        layers = []
        for stride in strides:
            layers.append(block(self.in_planes, planes, stride))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.avgpool(out)
        out = torch.flatten(out, 1)
        out = self.linear(out)
        return out


def main(init_state=None, seed=0, epochs=2, steps_per_epoch=3, batch_size=6):
    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    net = ResNet(BasicBlock, [1, 1])
    if init_state is not None:
        net.load_state_dict({k: torch.from_numpy(v) for k, v in init_state.items()})
    initial = {k: v.clone() for k, v in net.state_dict().items()}
    net = net.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scheduler = optim.lr_scheduler.MultiStepLR(optimizer, milestones=[1], gamma=0.1)

    train_losses, accuracies, first_grads = [], [], None
    for epoch in range(epochs):
        net.train()
        train_loss = 0
        correct = 0
        total = 0
        for batch_idx in range(steps_per_epoch):
            inputs = torch.from_numpy(rng.standard_normal((batch_size, 3, 8, 8)).astype(np.float32))
            targets = torch.from_numpy(rng.randint(0, 5, size=batch_size))
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            if first_grads is None:
                first_grads = {n: p.grad.clone() for n, p in net.named_parameters()}
            optimizer.step()

            train_loss += loss.item()
            _, predicted = outputs.max(1)
            total += targets.size(0)
            correct += predicted.eq(targets).sum().item()
            train_losses.append(loss.item())
        scheduler.step()

        net.eval()
        with torch.no_grad():
            inputs = torch.from_numpy(rng.standard_normal((4, 3, 8, 8)).astype(np.float32)).to(device)
            outputs = net(inputs)
            _, predicted = outputs.max(1)
            accuracies.append((100. * correct / total, predicted.tolist()))
    return {
        'init_state': initial,
        'train_losses': train_losses,
        'accuracies': accuracies,
        'first_grads': first_grads,
        'final_state': net.state_dict(),
        'lr': optimizer.param_groups[0]['lr'],
        'eval_outputs': outputs,
    }
