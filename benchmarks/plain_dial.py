"""The peer to beat: sipgate's own example (python-outgoing-call-example), a bare requests.post.

Same request as ``sipgate-tui call NUMBER --device e0 --yes``; configured the example's way, by
editing values, here read from the environment so the benchmark can point it at the simulator.
"""

import os

import requests

base_url = os.environ["SIPGATE_API_URL"]
token_id = os.environ["SIPGATE_TOKEN_ID"]
token = os.environ["SIPGATE_TOKEN"]

request_body = {"caller": "e0", "callee": "+4915799912345"}
response = requests.post(
    base_url + "/sessions/calls",
    json=request_body,
    headers={"Content-Type": "application/json"},
    auth=requests.auth.HTTPBasicAuth(token_id, token),
)
print(response.status_code, response.text)
