"""The wire layer: botocore service models, routing, protocol parsers and serializers, errors."""
