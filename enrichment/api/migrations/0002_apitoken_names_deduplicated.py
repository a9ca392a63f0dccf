"""Token names become unique: existing duplicates are renamed first.

The oldest token of a name keeps it; the others get ``-2``, ``-3``, ... (the
first free suffix), so every token keeps working and can be told apart in
``list_api_tokens`` and the admin."""

from django.db import migrations


def deduplicate_names(apps, schema_editor):
    ApiToken = apps.get_model("enrichment_api", "ApiToken")
    taken = set(ApiToken.objects.values_list("name", flat=True))
    seen: set[str] = set()
    for token in ApiToken.objects.order_by("created_at", "pk").only("pk", "name"):
        if token.name not in seen:
            seen.add(token.name)
            continue
        n = 2
        while f"{token.name}-{n}"[:100] in taken:
            n += 1
        new_name = f"{token.name[: 100 - len(str(n)) - 1]}-{n}"
        taken.add(new_name)
        seen.add(new_name)
        ApiToken.objects.filter(pk=token.pk).update(name=new_name)


class Migration(migrations.Migration):
    dependencies = [("enrichment_api", "0001_initial")]

    operations = [migrations.RunPython(deduplicate_names, migrations.RunPython.noop)]
