"""Providers: what turns a rendered prompt into an output. They know nothing about pytest."""

from .base import CallContext, ImageOutput, Provider, ProviderResponse
from .claims import PredictionClaims
from .registry import check_provider_id, create_provider

__all__ = ["CallContext", "ImageOutput", "PredictionClaims", "Provider", "ProviderResponse", "check_provider_id",
           "create_provider"]
