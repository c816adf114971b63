"""The `create` of a Rasa graph component built from its configuration alone (nothing trained or stored)."""

from __future__ import annotations

from typing import Any, Dict, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


class ConfiguredOnly:
    """Mixin placed before `GraphComponent` (or a Rasa base class) in the bases: `create` → `cls(config)`."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Any:
        """Creates the component from its configuration."""
        return cls(config)
