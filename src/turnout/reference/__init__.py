"""AWS's reference data as Turnout reads it, from the files bundled in ``turnout/data`` (provenance and licences in
``turnout/data/NOTICE``): the service authorization reference (actions, resource types, condition keys) and the
AWS managed policy catalogue. Pure readers: the bottom layer, beside ``wire`` and ``store``."""
