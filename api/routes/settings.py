"""Runtime settings (admin): read, change, roll back and sync the settings that may change
while mstack runs (``mcore.runtime``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, delete, get, post, put
from litestar.params import JSONBody, PathParameter
from pydantic import BaseModel, Field

from api.callers import admin_guard
from api.deps import App, CurrentActor
from api.openapi import doc
from mcore.access import Actor
from mcore.errors import Forbidden
from mcore.runtime import RUNTIME_KEYS, RuntimeSetting, cast, default_of

SettingKey = Annotated[
    str,
    PathParameter(
        description="The setting, as named in the settings table (`max_upload_size`,"
        " `media.transform_max_dimension`)",
    ),
]


class RuntimeValue(BaseModel):
    key: str
    value: Any = Field(description="What every process goes by now.")
    default: Any = Field(description="The value from the settings file and environment.")
    stored: Any = Field(default=None, description="The stored value, if any.")
    previous: Any = Field(default=None, description="The value before the last change.")
    updated_at: datetime | None = None
    updated_by: str | None = None


class RuntimeChange(BaseModel):
    value: Any = Field(description="The new value, as JSON (a number, a list, ...).")


class SyncRequest(BaseModel):
    force: bool = Field(default=False, description="Run even while another sync's flag is up.")


class SyncResult(BaseModel):
    synced: int


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only an admin may read or change runtime settings")


def _loads(text: str | None) -> Any:
    return None if text is None else cast(text)


async def _view(app: Any, key: str, row: RuntimeSetting | None) -> RuntimeValue:
    return RuntimeValue(
        key=key,
        value=await app.runtime.get(key),
        default=default_of(app.settings, key),
        stored=_loads(row.value) if row else None,
        previous=_loads(row.previous) if row else None,
        updated_at=row.updated_at if row else None,
        updated_by=row.updated_by if row else None,
    )


class RuntimeSettingsController(Controller):
    path = "/api/v1/admin/settings"
    tags = ["admin"]  # noqa: RUF012
    guards = [admin_guard]  # noqa: RUF012

    @get("/", summary="Runtime settings and their values", opt=doc("admin_settings_list"))
    async def list_settings(self, app_state: App, actor: CurrentActor) -> list[RuntimeValue]:
        """Every setting that may change while running: its value now, its default, and
        what is stored."""
        _admin(actor)
        stored = await app_state.runtime.stored()
        return [await _view(app_state, key, stored.get(key)) for key in RUNTIME_KEYS]

    @get("/{key:str}", summary="One runtime setting", opt=doc("admin_settings_get"))
    async def get_setting(
        self, app_state: App, actor: CurrentActor, key: SettingKey
    ) -> RuntimeValue:
        """One setting's value now, its default and what is stored (404: not a setting
        that can change while running)."""
        _admin(actor)
        await app_state.runtime.get(key)  # 404 for a key that cannot change at run time
        stored = await app_state.runtime.stored()
        return await _view(app_state, key, stored.get(key))

    @put(
        "/{key:str}",
        summary="Change a runtime setting",
        opt=doc("admin_settings_set", request_examples=[{"value": 104857600}]),
    )
    async def set_setting(
        self,
        app_state: App,
        actor: CurrentActor,
        key: SettingKey,
        data: JSONBody[RuntimeChange],
    ) -> RuntimeValue:
        """Checked against the setting's type and bounds (422), stored, and synced into
        Redis at once, so every process goes by it within a few seconds."""
        _admin(actor)
        row = await app_state.runtime.set(key, data.value, by=actor.id)
        return await _view(app_state, key, row)

    @delete(
        "/{key:str}",
        status_code=200,
        summary="Back to the default",
        opt=doc("admin_settings_unset"),
    )
    async def unset_setting(
        self, app_state: App, actor: CurrentActor, key: SettingKey
    ) -> RuntimeValue:
        """Remove the stored value: every process goes back to the settings file's."""
        _admin(actor)
        await app_state.runtime.unset(key)
        return await _view(app_state, key, None)

    @post(
        "/{key:str}/rollback",
        status_code=200,
        summary="Back to the value before",
        opt=doc("admin_settings_rollback", 409),
    )
    async def rollback_setting(
        self, app_state: App, actor: CurrentActor, key: SettingKey
    ) -> RuntimeValue:
        """Back to the value before the last change (409 when there was none)."""
        _admin(actor)
        row = await app_state.runtime.rollback(key, by=actor.id)
        return await _view(app_state, key, row)

    @post(
        "/sync",
        status_code=200,
        summary="Sync the stored values into Redis now",
        opt=doc("admin_settings_sync", 409),
    )
    async def sync_settings(
        self, app_state: App, actor: CurrentActor, data: JSONBody[SyncRequest]
    ) -> SyncResult:
        """Copy the stored values into Redis now (409 while another sync runs, unless
        `force`); without Redis there is nothing to copy (`synced: 0`)."""
        _admin(actor)
        return SyncResult(synced=await app_state.runtime.sync(force=data.force))
