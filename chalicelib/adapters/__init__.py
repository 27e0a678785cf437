"""The outside world's adapters, besides DynamoDB (persistence/): botocore clients with the app's timeouts (aws),
e-mail through SES or a folder (mail), Stripe (stripe_payments), the upload bucket on S3 (s3) and the signing key
in Secrets Manager (secrets). Each implements a port (chalicelib/ports) or serves bootstrap; none imports a
service or HTTP."""
