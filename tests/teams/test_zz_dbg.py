from teams.test_teams_channels import *
async def test_dbg(teams):
    await teams.set_queue(queue="billing", channel=BILLING_CHANNEL)
    await teams.say("I was charged twice this month and I want my money back")
    [card] = teams.cards_in(BILLING_CHANNEL)
    teams.connector.add_member(BILLING_CHANNEL, id="29:outsider-mallory", name="Mallory", tenant_id=GLOBEX_TENANT)
    status, response = await teams.click("claim", card=card, agent="Mallory")
    for r in teams.connector.requests: print(r.method, r.path, r.status, r.body if r.method=="GET" else "")
