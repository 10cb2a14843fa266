"""The MLP builder, its initialisers and the LightningModule that trains it."""
