def test_dossier_page_lists_requirements(client, parent_a, requirements):
    client.force_login(parent_a)
    response = client.get("/famille/dossier/")
    assert response.status_code == 200
    assert "Attestation d’assurance" in response.content.decode()
