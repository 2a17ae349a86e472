//! Cancellation and deadlines through the C ABI: a `dockreg_cancel` triggered from another
//! thread ends a call blocked on a silent registry, and a client handle with a timeout fails
//! with `DOCKREG_ERR_TIMEOUT`; the original handle is not affected.

mod fault_support;

use std::ffi::{CStr, CString, c_char};
use std::ptr;
use std::time::{Duration, Instant};

use dockreg::ffi::{self, dockreg_cancel, dockreg_client, dockreg_status};
use fault_support::{Act, FaultServer, Reply};

use dockreg_status::*;

fn new_client() -> *mut dockreg_client {
    let options = CString::new(r#"{"docker_config": null}"#).unwrap();
    let mut c = ptr::null_mut();
    // SAFETY: a C string and a writable pointer.
    assert_eq!(
        unsafe { ffi::dockreg_client_new(options.as_ptr(), &mut c) },
        DOCKREG_OK
    );
    c
}

fn derived(
    client: *mut dockreg_client,
    cancel: *const dockreg_cancel,
    timeout_ms: u64,
) -> *mut dockreg_client {
    let mut d = ptr::null_mut();
    // SAFETY: live handles (or NULL cancel) and a writable pointer.
    let st = unsafe { ffi::dockreg_client_with_cancel(client, cancel, timeout_ms, &mut d) };
    assert_eq!(st, DOCKREG_OK);
    assert!(!d.is_null());
    d
}

/// `dockreg_client_list_tags` on `repo`; the status, the time taken, and the JSON on success.
fn list_tags(
    client: *mut dockreg_client,
    repo: &str,
) -> (dockreg_status, Duration, Option<String>) {
    let repo = CString::new(repo).unwrap();
    let mut out: *mut c_char = ptr::null_mut();
    let started = Instant::now();
    // SAFETY: a live client, a C string and a writable pointer.
    let st = unsafe { ffi::dockreg_client_list_tags(client, repo.as_ptr(), &mut out) };
    let took = started.elapsed();
    let json = (st == DOCKREG_OK).then(|| {
        // SAFETY: a string from dockreg, freed once.
        let s = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_string();
        unsafe { ffi::dockreg_string_free(out) };
        s
    });
    (st, took, json)
}

#[test]
fn a_cancel_from_another_thread_ends_a_blocked_call() {
    let silent = FaultServer::start(|_, _| Act::Stall);
    let client = new_client();
    let mut cancel = ptr::null_mut();
    // SAFETY: a writable pointer.
    assert_eq!(unsafe { ffi::dockreg_cancel_new(&mut cancel) }, DOCKREG_OK);
    let cancellable = derived(client, cancel, 0);
    // SAFETY: a live handle.
    assert_eq!(unsafe { ffi::dockreg_cancel_is_triggered(cancel) }, 0);

    let trigger = cancel as usize;
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: the handle lives until after the join below.
        unsafe { ffi::dockreg_cancel_trigger(trigger as *const dockreg_cancel) };
    });
    let (st, took, _) = list_tags(cancellable, &format!("{}/a/b", silent.host()));
    t.join().unwrap();
    assert_eq!(st, DOCKREG_ERR_CANCELLED);
    assert!(took < Duration::from_millis(1500), "{took:?}");
    // SAFETY: a live handle.
    assert_eq!(unsafe { ffi::dockreg_cancel_is_triggered(cancel) }, 1);

    // The original handle is not cancelled; the derived one stays cancelled, even after the
    // cancel handle is freed.
    let ok = FaultServer::start(|_, _| {
        Act::Reply(Reply::new(200).body(r#"{"name":"a/b","tags":["v1"]}"#))
    });
    let (st, _, json) = list_tags(client, &format!("{}/a/b", ok.host()));
    assert_eq!(st, DOCKREG_OK);
    assert!(json.unwrap().contains("v1"));
    // SAFETY: each handle freed once; NULL is allowed.
    unsafe {
        ffi::dockreg_cancel_free(cancel);
        ffi::dockreg_cancel_free(ptr::null_mut());
        ffi::dockreg_cancel_trigger(ptr::null());
    }
    let (st, _, _) = list_tags(cancellable, &format!("{}/a/b", ok.host()));
    assert_eq!(st, DOCKREG_ERR_CANCELLED);
    // SAFETY: each client freed once.
    unsafe {
        ffi::dockreg_client_free(cancellable);
        ffi::dockreg_client_free(client);
    }
}

#[test]
fn a_timeout_handle_fails_with_timeout_and_null_arguments_are_refused() {
    let silent = FaultServer::start(|_, _| Act::Stall);
    let client = new_client();
    let bounded = derived(client, ptr::null(), 500);
    let (st, took, _) = list_tags(bounded, &format!("{}/a/b", silent.host()));
    assert_eq!(st, DOCKREG_ERR_TIMEOUT);
    assert!(took < Duration::from_millis(2000), "{took:?}");

    let mut out = ptr::null_mut();
    // SAFETY: NULL arguments are checked and refused.
    unsafe {
        assert_eq!(
            ffi::dockreg_client_with_cancel(ptr::null(), ptr::null(), 0, &mut out),
            DOCKREG_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            ffi::dockreg_client_with_cancel(client, ptr::null(), 0, ptr::null_mut()),
            DOCKREG_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            ffi::dockreg_cancel_new(ptr::null_mut()),
            DOCKREG_ERR_NULL_ARGUMENT
        );
        assert_eq!(ffi::dockreg_cancel_is_triggered(ptr::null()), 0);
        ffi::dockreg_client_free(bounded);
        ffi::dockreg_client_free(client);
    }
    assert!(out.is_null());
}
