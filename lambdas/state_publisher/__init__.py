"""State fan-out (stage 5): customer-table stream records become CustomerStateChanged events on the bus."""
