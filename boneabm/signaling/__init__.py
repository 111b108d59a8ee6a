"""Intracellular signaling: reaction networks as data, the exact SSA kernel, perturbations."""

from boneabm.signaling.network import Network, load_network, network_from_dict
from boneabm.signaling.perturbations import Perturbation
from boneabm.signaling.simulate import simulate

__all__ = ["Network", "Perturbation", "load_network", "network_from_dict", "simulate"]
