"""HTTP handlers of the admin API (docs/protocol.md §2.7), mounted at `/api/v1/admin`: the
paths and bodies of the original's admin service, as its `neuro-admin-client` sends them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ..api.keys import AUTHENTICATOR
from ..api.openapi import describe
from ..api.validation import read_json
from ..auth.users import User
from .entities import ClusterRole, ClusterUser, Credits, OrgCluster, OrgRole, OrgUser, Quota
from .keys import ADMIN
from .service import CreditsChange, OrgAccount, OrgMember, QuotaChange, UserAccount

routes = web.RouteTableDef()

MAX_JOBS = 2**31 - 1  # the column is a 32-bit integer
MAX_AMOUNT = Decimal(10) ** 30
NAME = Annotated[str, Field(min_length=1, max_length=253)]


def _jobs(value: Any) -> Any:
    # The original client sends the cluster's default quota as a string.
    return int(value) if isinstance(value, str) and value.strip().lstrip("-").isdigit() else value


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool) or len(str(value)) > 40:
        raise ValueError("an amount of credits is a decimal number in a string")
    try:
        amount = Decimal(value)
    except InvalidOperation as e:
        raise ValueError(f"{value!r} is not a decimal number") from e
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise ValueError(f"{value!r} is not a usable amount of credits")
    return amount


Jobs = Annotated[Annotated[int, Field(ge=0, le=MAX_JOBS)] | None, BeforeValidator(_jobs)]
Amount = Annotated[Decimal | None, BeforeValidator(_amount)]


class QuotaBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    total_running_jobs: Jobs = None


class DeltaQuotaBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    total_running_jobs: Annotated[int, BeforeValidator(_jobs), Field(ge=-MAX_JOBS, le=MAX_JOBS)]


class BalanceBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    credits: Amount = None


class ClusterUserBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user_name: NAME
    role: ClusterRole
    org_name: NAME | None = None
    quota: QuotaBody | None = None
    balance: BalanceBody | None = None


class QuotaPatchBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    quota: QuotaBody | None = None
    additional_quota: DeltaQuotaBody | None = None


class BalancePatchBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    credits: Amount = None
    additional_credits: Amount = None


class OrgUserBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user_name: NAME
    role: OrgRole


class OrgClusterBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    org_name: NAME
    quota: QuotaBody | None = None
    balance: BalanceBody | None = None
    default_credits: Amount = None
    default_quota: QuotaBody | None = None
    default_role: ClusterRole = ClusterRole.USER
    storage_size: Annotated[int, Field(ge=0, le=MAX_JOBS)] | None = None


class DefaultsBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    credits: Amount = None
    quota: QuotaBody | None = None
    default_role: ClusterRole = ClusterRole.USER


async def _caller(request: web.Request) -> str:
    return await request.config_dict[AUTHENTICATOR].required_user(request)


def _with_info(request: web.Request) -> bool:
    return request.query.get("with_user_info", "false").lower() in ("1", "true")


def _org(request: web.Request) -> str | None:
    return request.match_info.get("org")


# -- clusters ------------------------------------------------------------------------------


@routes.get("/clusters")
async def list_clusters(request: web.Request) -> web.Response:
    await _caller(request)
    admin = request.config_dict[ADMIN]
    return web.json_response([_cluster_json(request, c) for c in admin.clusters()])


@routes.get("/clusters/{cluster}")
async def get_cluster(request: web.Request) -> web.Response:
    await _caller(request)
    name = request.config_dict[ADMIN].cluster(request.match_info["cluster"])
    return web.json_response(_cluster_json(request, name))


@routes.post("/clusters")
@routes.put("/clusters/{cluster}")
@routes.delete("/clusters/{cluster}")
async def change_cluster(request: web.Request) -> web.Response:
    await _caller(request)
    request.config_dict[ADMIN].refuse_settings_change("Clusters")
    raise AssertionError("unreachable")


# -- cluster users (outside any org, and in an org) ----------------------------------------


@routes.get("/clusters/{cluster}/users")
@routes.get("/clusters/{cluster}/orgs/{org}/users")
async def list_cluster_users(request: web.Request) -> web.Response:
    caller = await _caller(request)
    accounts = await request.config_dict[ADMIN].cluster_users(
        caller, request.match_info["cluster"], _org(request), _with_info(request)
    )
    return web.json_response([_user_json(a) for a in accounts])


@routes.post("/clusters/{cluster}/users")
@describe("Add a user to a cluster (or to an org in it: `org_name`)", body=ClusterUserBody)
async def add_cluster_user(request: web.Request) -> web.Response:
    caller = await _caller(request)
    body = await read_json(request, ClusterUserBody)
    wanted = ClusterUser(
        cluster_name=request.match_info["cluster"],
        user_name=body.user_name,
        org_name=body.org_name,
        role=body.role,
        quota=Quota(body.quota.total_running_jobs) if body.quota else Quota(),
        credits=Credits(),
    )
    credits = body.balance.credits if body.balance else None
    account = await request.config_dict[ADMIN].add_cluster_user(
        caller, wanted, credits, _with_info(request)
    )
    return web.json_response(_user_json(account), status=201)


# Service accounts (`alice/service-accounts/ci`) read their own account too: `neuro config
# show` asks for it, so the name may hold slashes here.
@routes.get("/clusters/{cluster}/users/{user:.+}")
@routes.get("/clusters/{cluster}/orgs/{org}/users/{user:.+}")
async def get_cluster_user(request: web.Request) -> web.Response:
    caller = await _caller(request)
    account = await request.config_dict[ADMIN].cluster_user(
        caller,
        request.match_info["cluster"],
        _org(request),
        request.match_info["user"],
        _with_info(request),
    )
    return web.json_response(_user_json(account))


@routes.put("/clusters/{cluster}/users/{user}")
@routes.put("/clusters/{cluster}/orgs/{org}/users/{user}")
@describe("Replace a cluster user's role, quota and credits", body=ClusterUserBody)
async def put_cluster_user(request: web.Request) -> web.Response:
    caller = await _caller(request)
    body = await read_json(request, ClusterUserBody)
    wanted = ClusterUser(
        cluster_name=request.match_info["cluster"],
        user_name=request.match_info["user"],
        org_name=_org(request),
        role=body.role,
        quota=Quota(body.quota.total_running_jobs) if body.quota else Quota(),
        credits=Credits(),
    )
    credits = None
    if body.balance is not None and "credits" in body.balance.model_fields_set:
        amount = body.balance.credits
        credits = CreditsChange(value=amount, unlimited=amount is None)
    account = await request.config_dict[ADMIN].update_cluster_user(
        caller, wanted, credits, _with_info(request)
    )
    return web.json_response(_user_json(account))


@routes.delete("/clusters/{cluster}/users/{user}")
@routes.delete("/clusters/{cluster}/orgs/{org}/users/{user}")
async def remove_cluster_user(request: web.Request) -> web.Response:
    caller = await _caller(request)
    await request.config_dict[ADMIN].remove_cluster_user(
        caller, request.match_info["cluster"], _org(request), request.match_info["user"]
    )
    return web.Response(status=204)


# The jobs quota and the credits of a cluster user (of an org, where the path names one) and
# of an org's share of a cluster are changed alike: one handler each, for all three paths.


@routes.patch("/clusters/{cluster}/users/{user}/quota")
@routes.patch("/clusters/{cluster}/orgs/{org}/users/{user}/quota")
@routes.patch("/clusters/{cluster}/orgs/{org}/quota")
@describe(
    "Set (`quota`) or move (`additional_quota`) the jobs quota of a user or an org in a cluster",
    body=QuotaPatchBody,
)
async def patch_quota(request: web.Request) -> web.Response:
    caller = await _caller(request)
    change = _quota_change(await read_json(request, QuotaPatchBody))
    return await _change_limits(request, caller, quota=change)


@routes.patch("/clusters/{cluster}/users/{user}/balance")
@routes.patch("/clusters/{cluster}/orgs/{org}/users/{user}/balance")
@routes.patch("/clusters/{cluster}/orgs/{org}/balance")
@describe(
    "Set (`credits`) or add to (`additional_credits`) the credits of a user or an org in a cluster",
    body=BalancePatchBody,
)
async def patch_balance(request: web.Request) -> web.Response:
    caller = await _caller(request)
    change = _credits_change(await read_json(request, BalancePatchBody))
    return await _change_limits(request, caller, credits=change)


async def _change_limits(
    request: web.Request,
    caller: str,
    *,
    quota: QuotaChange | None = None,
    credits: CreditsChange | None = None,
) -> web.Response:
    """Applies the change to the user the path names, or to the org where it names none."""
    admin = request.config_dict[ADMIN]
    cluster = request.match_info["cluster"]
    if "user" in request.match_info:
        user = await admin.change_cluster_user(
            caller, cluster, _org(request), request.match_info["user"], quota=quota, credits=credits
        )
        return web.json_response(_user_json(user))
    org = await admin.change_org_cluster(
        caller, cluster, request.match_info["org"], quota=quota, credits=credits
    )
    return web.json_response(_org_cluster_json(org))


# -- orgs and org users --------------------------------------------------------------------


@routes.get("/orgs")
async def list_orgs(request: web.Request) -> web.Response:
    await _caller(request)
    return web.json_response([{"name": o} for o in request.config_dict[ADMIN].orgs()])


@routes.get("/orgs/{org}")
async def get_org(request: web.Request) -> web.Response:
    await _caller(request)
    return web.json_response({"name": request.config_dict[ADMIN].org(request.match_info["org"])})


@routes.post("/orgs")
@routes.delete("/orgs/{org}")
async def change_org(request: web.Request) -> web.Response:
    await _caller(request)
    request.config_dict[ADMIN].refuse_settings_change("Orgs")
    raise AssertionError("unreachable")


@routes.get("/orgs/{org}/users")
async def list_org_users(request: web.Request) -> web.Response:
    caller = await _caller(request)
    members = await request.config_dict[ADMIN].org_users(
        caller, request.match_info["org"], _with_info(request)
    )
    return web.json_response([_member_json(m) for m in members])


@routes.get("/orgs/{org}/users/{user}")
async def get_org_user(request: web.Request) -> web.Response:
    caller = await _caller(request)
    member = await request.config_dict[ADMIN].org_user(
        caller, request.match_info["org"], request.match_info["user"], _with_info(request)
    )
    return web.json_response(_member_json(member))


@routes.post("/orgs/{org}/users")
@describe("Add a user to an org", body=OrgUserBody)
async def add_org_user(request: web.Request) -> web.Response:
    caller = await _caller(request)
    body = await read_json(request, OrgUserBody)
    wanted = OrgUser(request.match_info["org"], body.user_name, body.role)
    member = await request.config_dict[ADMIN].put_org_user(
        caller, wanted, _with_info(request), create=True
    )
    return web.json_response(_member_json(member), status=201)


@routes.put("/orgs/{org}/users/{user}")
@describe("Change an org user's role", body=OrgUserBody)
async def put_org_user(request: web.Request) -> web.Response:
    caller = await _caller(request)
    body = await read_json(request, OrgUserBody)
    wanted = OrgUser(request.match_info["org"], request.match_info["user"], body.role)
    member = await request.config_dict[ADMIN].put_org_user(
        caller, wanted, _with_info(request), create=False
    )
    return web.json_response(_member_json(member))


@routes.delete("/orgs/{org}/users/{user}")
async def remove_org_user(request: web.Request) -> web.Response:
    caller = await _caller(request)
    await request.config_dict[ADMIN].remove_org_user(
        caller, request.match_info["org"], request.match_info["user"]
    )
    return web.Response(status=204)


# -- org clusters --------------------------------------------------------------------------


@routes.get("/clusters/{cluster}/orgs")
async def list_org_clusters(request: web.Request) -> web.Response:
    caller = await _caller(request)
    accounts = await request.config_dict[ADMIN].org_clusters(caller, request.match_info["cluster"])
    return web.json_response([_org_cluster_json(a) for a in accounts])


@routes.get("/clusters/{cluster}/orgs/{org}")
async def get_org_cluster(request: web.Request) -> web.Response:
    caller = await _caller(request)
    account = await request.config_dict[ADMIN].org_cluster(
        caller, request.match_info["cluster"], request.match_info["org"]
    )
    return web.json_response(_org_cluster_json(account))


@routes.post("/clusters/{cluster}/orgs")
@describe("Set the quota, credits and defaults of an org in a cluster", body=OrgClusterBody)
async def add_org_cluster(request: web.Request) -> web.Response:
    return await _put_org_cluster(request, request.match_info["cluster"], status=201)


@routes.put("/clusters/{cluster}/orgs/{org}")
@describe("Replace the quota, credits and defaults of an org in a cluster", body=OrgClusterBody)
async def put_org_cluster(request: web.Request) -> web.Response:
    return await _put_org_cluster(request, request.match_info["cluster"], status=200)


async def _put_org_cluster(request: web.Request, cluster: str, status: int) -> web.Response:
    caller = await _caller(request)
    body = await read_json(request, OrgClusterBody)
    org = request.match_info.get("org", body.org_name)
    wanted = OrgCluster(
        cluster_name=cluster,
        org_name=org,
        quota=Quota(body.quota.total_running_jobs) if body.quota else Quota(),
        credits=Credits(),
        default_credits=body.default_credits,
        default_quota=Quota(body.default_quota.total_running_jobs)
        if body.default_quota
        else Quota(),
        default_role=body.default_role,
        storage_size=body.storage_size,
    )
    # The whole org cluster is replaced: credits left out mean unlimited, as the original's
    # `update-org-cluster` (all options defaulting to "unlimited") expects.
    amount = body.balance.credits if body.balance is not None else None
    credits = CreditsChange(value=amount, unlimited=amount is None)
    account = await request.config_dict[ADMIN].put_org_cluster(caller, wanted, credits)
    return web.json_response(_org_cluster_json(account), status=status)


@routes.delete("/clusters/{cluster}/orgs/{org}")
async def remove_org_cluster(request: web.Request) -> web.Response:
    await _caller(request)
    request.config_dict[ADMIN].refuse_settings_change("The orgs of a cluster")
    raise AssertionError("unreachable")


@routes.patch("/clusters/{cluster}/orgs/{org}/defaults")
@describe("Set what an org's new users get in a cluster", body=DefaultsBody)
async def patch_org_defaults(request: web.Request) -> web.Response:
    caller = await _caller(request)
    body = await read_json(request, DefaultsBody)
    quota = Quota(body.quota.total_running_jobs) if body.quota else Quota()
    account = await request.config_dict[ADMIN].change_org_cluster(
        caller,
        request.match_info["cluster"],
        request.match_info["org"],
        defaults=(body.credits, quota, body.default_role),
    )
    return web.json_response(_org_cluster_json(account))


# -- bodies --------------------------------------------------------------------------------


def _quota_change(body: QuotaPatchBody) -> QuotaChange:
    if body.additional_quota is not None:
        return QuotaChange(delta=body.additional_quota.total_running_jobs)
    if body.quota is not None:
        return QuotaChange(value=Quota(body.quota.total_running_jobs))
    raise ValueError("quota or additional_quota is required")


def _credits_change(body: BalancePatchBody) -> CreditsChange:
    if body.additional_credits is not None:
        return CreditsChange(delta=body.additional_credits)
    if "credits" in body.model_fields_set:
        return CreditsChange(value=body.credits, unlimited=body.credits is None)
    raise ValueError("credits or additional_credits is required")


def _quota_json(quota: Quota) -> dict[str, Any]:
    if quota.total_running_jobs is None:
        return {}
    return {"total_running_jobs": quota.total_running_jobs}


def _cluster_json(request: web.Request, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "default_quota": _quota_json(request.config_dict[ADMIN].cluster_default_quota),
        "default_role": ClusterRole.USER.value,
        "maintenance": False,
    }


def _info_json(info: User) -> dict[str, Any]:
    # Accounts here have no e-mail address; the original's clients require the key.
    return {"email": "", "created_at": info.created_at.isoformat()}


def _balance_json(credits: Decimal | None, spent: Decimal) -> dict[str, Any]:
    return {"credits": None if credits is None else str(credits), "spent_credits": str(spent)}


def _user_json(account: UserAccount) -> dict[str, Any]:
    user = account.user
    body: dict[str, Any] = {
        "user_name": user.user_name,
        "role": user.role.value,
        "cluster_name": user.cluster_name,
        "quota": _quota_json(user.quota),
        "balance": _balance_json(account.balance.credits, account.balance.spent_credits),
    }
    if user.org_name is not None:
        body["org_name"] = user.org_name
    if account.info is not None:
        body["user_info"] = _info_json(account.info)
    return body


def _member_json(member: OrgMember) -> dict[str, Any]:
    body: dict[str, Any] = {
        "org_name": member.user.org_name,
        "user_name": member.user.user_name,
        "role": member.user.role.value,
    }
    if member.info is not None:
        body["user_info"] = _info_json(member.info)
    return body


def _org_cluster_json(account: OrgAccount) -> dict[str, Any]:
    org = account.org_cluster
    body: dict[str, Any] = {
        "org_name": org.org_name,
        "cluster_name": org.cluster_name,
        "quota": _quota_json(org.quota),
        "balance": _balance_json(account.balance.credits, account.balance.spent_credits),
        "default_quota": _quota_json(org.default_quota),
        "default_role": org.default_role.value,
        "maintenance": False,
    }
    if org.default_credits is not None:
        body["default_credits"] = str(org.default_credits)
    if org.storage_size is not None:
        body["storage_size"] = org.storage_size
    return body
