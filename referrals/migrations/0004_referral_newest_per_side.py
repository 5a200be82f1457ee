from django.db import migrations, models

# The planner's view of which agency sends to which. Without it, PostgreSQL multiplies the chances
# of "sent or received by the agency" (the access rule) and "received by it" (the list's filter) as
# if they were independent, expects a hundredth of an agency's referrals and sorts them all
# instead of reading the newest from the index below. A state has a few hundred agencies: the
# larger statistics keep all of them, and the commonest pairs.
SIDES_STATISTICS = """
ALTER TABLE referrals_referral
    ALTER COLUMN from_agency_id SET STATISTICS 1000,
    ALTER COLUMN to_agency_id SET STATISTICS 1000;
CREATE STATISTICS referral_sides (mcv) ON from_agency_id, to_agency_id FROM referrals_referral;
ALTER STATISTICS referral_sides SET STATISTICS 1000;
"""
NO_SIDES_STATISTICS = """
DROP STATISTICS IF EXISTS referral_sides;
ALTER TABLE referrals_referral
    ALTER COLUMN from_agency_id SET STATISTICS -1,
    ALTER COLUMN to_agency_id SET STATISTICS -1;
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0003_referral_newest_first"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(fields=["to_agency", "-created_at", "-id"], name="referral_received_newest"),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(fields=["from_agency", "-created_at", "-id"], name="referral_sent_newest"),
        ),
        migrations.RunPython(on_postgresql(SIDES_STATISTICS), on_postgresql(NO_SIDES_STATISTICS)),
    ]
