"""Deployment: the CloudFormation merged into `chalice package` output, and the commands around it. Not deployed."""
