//! Entry point: mount the app. Everything else lives in the library so the
//! browser tests can use it too.
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(tether::App);
}
