"""`jinhui demo`: a year of one base union on the local stack, with a fast clock."""
