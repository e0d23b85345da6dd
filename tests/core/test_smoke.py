def test_home_page_renders_in_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "消费帮扶" in response.get_data(as_text=True) or "Consumption" in response.get_data(as_text=True)


def test_regional_admin_sees_admin_home(client, as_role):
    as_role("regional_admin")
    assert client.get("/admin/").status_code == 200
