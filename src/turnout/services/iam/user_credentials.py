"""The lists of a user's other credentials: SSH public keys, MFA devices, signing certificates, service-specific
credentials.

Turnout issues none of these (``UploadSSHPublicKey``, ``CreateVirtualMFADevice``, ``UploadSigningCertificate`` and
``CreateServiceSpecificCredential`` answer ``NotImplemented``), so a user never has any and the lists are empty.
They are served because tools list them before deleting a user (the Terraform provider's ``aws_iam_user`` with
``force_destroy``), and they answer as IAM does: ``NoSuchEntity`` for a user that does not exist, the caller's own
(empty) list without ``UserName``.
"""

from __future__ import annotations

from typing import Any

from ...core.context import RequestContext
from .common import paged
from .users import caller_user_name, user_row


class UserCredentialListOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any

    def _credential_owner(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        """Check the user the list is for exists (UserName, else the caller; the root user has none of these)."""
        name = req.get("UserName") or caller_user_name(ctx)
        if name is not None:
            user_row(self.db, ctx.account_id, name)

    def _empty(self, ctx: RequestContext, req: dict[str, Any], result_key: str) -> dict[str, Any]:
        self._credential_owner(ctx, req)
        return paged([], lambda item: str(item), req, result_key)

    def list_ssh_public_keys(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._empty(ctx, req, "SSHPublicKeys")

    def list_mfa_devices(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._empty(ctx, req, "MFADevices")

    def list_signing_certificates(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._empty(ctx, req, "Certificates")

    def list_service_specific_credentials(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        if req.get("AllUsers"):
            return paged([], lambda item: str(item), req, "ServiceSpecificCredentials")
        return self._empty(ctx, req, "ServiceSpecificCredentials")

    def list_virtual_mfa_devices(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        # The account's virtual MFA devices, of any AssignmentStatus: none can be created here.
        return paged([], lambda item: str(item), req, "VirtualMFADevices")
