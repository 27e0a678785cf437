"""Persistence: DynamoDB through pynamodb. The only package that imports pynamodb."""
