"""Convolutional GRU (Ballas et al., ICLR 2016): a GRU whose gates are convolutions of feature maps.

For an input map ``x_t`` and the previous hidden state ``h`` (``*`` = convolution)::

    z  = sigmoid(W_xz * x_t + W_hz * h + b_z)          update gate
    r  = sigmoid(W_xr * x_t + W_hr * h + b_r)          reset gate
    c  = tanh(W_xc * x_t + W_hc * (r . h) + b_c)       candidate: the reset gate acts on h
    h' = (1 - z) . h + z . c                           z = 0 keeps the state

``ConvGRU`` runs a cell over a sequence; the input convolutions of all time steps are computed in
one batched convolution, so the loop over time only convolves the hidden state.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvGRUCell(nn.Module):
    """One ConvGRU step on maps of any size (padding keeps the spatial size).

    Args:
        in_channels: channels of the input map.
        hidden_channels: channels of the hidden state.
        kernel_size: odd kernel size of every gate convolution.
        dilation: dilation of every gate convolution (widens the receptive field at equal cost).
    """

    def __init__(
        self, in_channels: int, hidden_channels: int, kernel_size: int = 3, dilation: int = 1
    ) -> None:
        super().__init__()
        if kernel_size % 2 == 0 or kernel_size < 1 or dilation < 1:
            raise ValueError(
                f"ConvGRU needs an odd kernel_size >= 1 and dilation >= 1, "
                f"got kernel_size={kernel_size}, dilation={dilation}"
            )
        self.hidden_channels = hidden_channels
        conv = {"kernel_size": kernel_size, "padding": dilation * (kernel_size // 2)}
        conv["dilation"] = dilation
        # input parts of z, r and the candidate (these carry the biases)
        self.input_conv = nn.Conv2d(in_channels, 3 * hidden_channels, **conv)
        # hidden parts of z and r, and of the candidate (applied to r . h)
        self.hidden_gates = nn.Conv2d(hidden_channels, 2 * hidden_channels, bias=False, **conv)
        self.hidden_candidate = nn.Conv2d(hidden_channels, hidden_channels, bias=False, **conv)

    def project_input(self, x: torch.Tensor) -> torch.Tensor:
        """The input convolutions of the three gates, (N, 3 * hidden, H, W)."""
        return self.input_conv(x)

    def step(self, x_proj: torch.Tensor, h: torch.Tensor | None) -> torch.Tensor:
        """Next hidden state from a projected input (``project_input``) and the state ``h``
        (None: the zero state, whose convolutions vanish: they have no bias; computed without
        one, so that a traced graph keeps the batch dynamic)."""
        xz, xr, xc = x_proj.chunk(3, dim=1)
        if h is None:
            return torch.sigmoid(xz) * torch.tanh(xc)
        hz, hr = self.hidden_gates(h).chunk(2, dim=1)
        z = torch.sigmoid(xz + hz)
        r = torch.sigmoid(xr + hr)
        candidate = torch.tanh(xc + self.hidden_candidate(r * h))
        return h + z * (candidate - h)  # (1 - z) . h + z . candidate

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """One step: (N, in, H, W) and optional (N, hidden, H, W) -> (N, hidden, H, W)."""
        return self.step(self.project_input(x), h)


class ConvGRU(nn.Module):
    """A ConvGRU layer over a sequence (B, T, C, H, W); see ``ConvGRUCell`` for the arguments."""

    def __init__(
        self, in_channels: int, hidden_channels: int, kernel_size: int = 3, dilation: int = 1
    ) -> None:
        super().__init__()
        self.cell = ConvGRUCell(in_channels, hidden_channels, kernel_size, dilation)

    @property
    def hidden_channels(self) -> int:
        return self.cell.hidden_channels

    def forward(
        self, x: torch.Tensor, h: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run over time from ``h`` (zeros when None).

        Returns the hidden states of every step (B, T, hidden, H, W) and the last one.
        """
        if x.ndim != 5:
            raise ValueError(f"ConvGRU expects (B, T, C, H, W), got shape {tuple(x.shape)}")
        t = x.shape[1]  # the batch stays -1: a traced graph keeps it dynamic
        x_proj = self.cell.project_input(x.flatten(0, 1)).unflatten(0, (-1, t))
        states = []
        for step in range(t):
            h = self.cell.step(x_proj[:, step], h)
            states.append(h)
        return torch.stack(states, dim=1), h
