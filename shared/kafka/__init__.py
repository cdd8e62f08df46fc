"""Kafka: the topic catalogue, producer settings and the consumer runner."""
