"""The local stack: moto as DynamoDB and S3, chalice local behind an API Gateway emulation. Not deployed."""
