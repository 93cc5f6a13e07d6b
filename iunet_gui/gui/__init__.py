"""Qt user interface. Calls core/ and training/, never the other way round."""
