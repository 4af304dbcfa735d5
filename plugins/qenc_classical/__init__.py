"""Classical reference models (work in progress): registers nothing yet."""
