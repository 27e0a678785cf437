"""Security: password hashing, JWTs, signed cursors, and the API Gateway authorizer."""
