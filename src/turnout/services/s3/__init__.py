"""S3 (issue 10): buckets, bucket policies, objects; rest-xml on the shared endpoint."""
