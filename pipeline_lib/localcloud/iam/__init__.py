"""IAM for the local cloud: role sessions' calls decided by the role's policies as AWS decides
them (evaluation.py: pure logic; roles.py: the policies in moto's IAM backend; requests.py: an
HTTP request in IAM's terms; trust.py: whether a service may assume a role (trust
policies); authorizer.py: decisions (with permissions boundaries); extension.py: credentials, the HTTP check
and `check()` for calls the cloud makes on a role's behalf)."""
from .errors import AccessDenied, AssumeRoleDenied
from .evaluation import Decision, Identity, decide
from .extension import IamExtension, extension, iam_of

__all__ = ["AccessDenied", "AssumeRoleDenied", "Decision", "IamExtension", "Identity", "decide", "extension", "iam_of"]
