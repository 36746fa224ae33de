"""Activation: read the activation queue and deliver it, exactly once in effect.

reader -> engine (window, validation, templates, flow control) -> destinations,
with every outcome written to the send ledger and run log (activation.ledger).
"""
