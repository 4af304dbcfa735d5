"""The ``jax`` backend plugin (work in progress): registers nothing yet."""
