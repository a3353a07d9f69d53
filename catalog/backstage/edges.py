"""Dependencies, API relations and memberships, compared and written as sets."""

from portal.bulk import copy_rows

from ..models import ApiRelation, Component, Dependency, Person, Team
from .mapping import EntityFields
from .refs import Key
from .schema import BATCH, MODEL_FOR_KIND, chunks


class EdgeState:
    """Dependencies, API relations and team memberships of the entities in the run."""

    def __init__(self, plan):
        self.plan = plan
        ids = plan.key_to_id
        self.component_ids = {
            ids[Component][e.key] for e in plan.by_model[Component] if e.key in ids[Component]
        }
        self.person_ids = {
            ids[Person][k]
            for k in [*(e.key for e in plan.by_model[Person]), *plan.touched[Person]]
            if k in ids[Person]
        }
        self.deps: dict[int, dict] = {}
        for pk, source, target, kind, topic in Dependency.objects.values_list(
            "id", "source_id", "target_id", "kind", "topic"
        ).iterator(chunk_size=5000):
            if source in self.component_ids:
                self.deps.setdefault(source, {})[(target, kind)] = (pk, topic)
        self.apis: dict[int, dict] = {}
        for pk, component, api, relation in ApiRelation.objects.values_list(
            "id", "component_id", "api_id", "relation"
        ).iterator(chunk_size=5000):
            if component in self.component_ids:
                self.apis.setdefault(component, {})[(api, relation)] = pk
        through = Person.teams.through
        self.teams: dict[int, dict] = {}
        for pk, person, team in through.objects.values_list("id", "person_id", "team_id").iterator(
            chunk_size=5000
        ):
            if person in self.person_ids:
                self.teams.setdefault(person, {})[team] = pk

    def person_teams(self, person_id: int) -> set[Key]:
        keys = self.plan.id_to_key[Team]
        return {keys[t] for t in self.teams.get(person_id, {})}

    def changed(self, entity: EntityFields) -> bool:
        plan = self.plan
        model = MODEL_FOR_KIND[entity.kind]
        pk = plan.key_to_id[model][entity.key]
        if model is Person:
            return self.person_teams(pk) != entity.member_of
        if model is not Component:
            return False
        keys = plan.id_to_key[Component]
        deps = {(keys[t], kind, topic) for (t, kind), (_, topic) in self.deps.get(pk, {}).items()}
        apis = {(keys[a], rel) for (a, rel) in self.apis.get(pk, {})}
        return deps != entity.deps or apis != entity.apis

    def write(self) -> None:
        plan, ids = self.plan, self.plan.key_to_id
        changed = [e for e in plan.entities.values() if plan.status[e.key] != "unchanged"]
        dep_delete, dep_create, dep_update, api_delete, api_create = [], [], [], [], []
        team_delete, team_create = [], []
        for entity in changed:
            model = MODEL_FOR_KIND[entity.kind]
            pk = ids[model][entity.key]
            if model is Person:
                wanted = {ids[Team][k] for k in entity.member_of}
                self._diff_teams(pk, wanted, team_delete, team_create)
            elif model is Component:
                wanted_deps = {(ids[Component][k], kind): topic for k, kind, topic in entity.deps}
                for edge, (edge_pk, topic) in self.deps.get(pk, {}).items():
                    if edge not in wanted_deps:
                        dep_delete.append(edge_pk)
                    elif wanted_deps[edge] != topic:
                        dep_update.append(Dependency(pk=edge_pk, topic=wanted_deps[edge]))
                current = self.deps.get(pk, {})
                dep_create += [
                    {"source_id": pk, "target_id": t, "kind": kind, "topic": topic}
                    for (t, kind), topic in wanted_deps.items()
                    if (t, kind) not in current
                ]
                wanted_apis = {(ids[Component][k], rel) for k, rel in entity.apis}
                current_apis = self.apis.get(pk, {})
                api_delete += [p for edge, p in current_apis.items() if edge not in wanted_apis]
                api_create += [
                    {"component_id": pk, "api_id": a, "relation": rel}
                    for a, rel in wanted_apis
                    if (a, rel) not in current_apis
                ]
        for key, change in plan.touched[Person].items():
            pk = ids[Person][key]
            wanted = set(self.teams.get(pk, {})) | {ids[Team][k] for k in change["add"]}
            self._diff_teams(pk, wanted, team_delete, team_create)
        for chunk in chunks(dep_delete):
            Dependency.objects.filter(pk__in=chunk).delete()
        Dependency.objects.bulk_update(dep_update, ["topic"], batch_size=BATCH)
        copy_rows(Dependency, dep_create)
        for chunk in chunks(api_delete):
            ApiRelation.objects.filter(pk__in=chunk).delete()
        copy_rows(ApiRelation, api_create)
        through = Person.teams.through
        for chunk in chunks(team_delete):
            through.objects.filter(pk__in=chunk).delete()
        copy_rows(through, team_create)

    def _diff_teams(self, person_id, wanted: set[int], delete: list, create: list) -> None:
        current = self.teams.get(person_id, {})
        delete += [pk for team, pk in current.items() if team not in wanted]
        create += [{"person_id": person_id, "team_id": t} for t in wanted if t not in current]
