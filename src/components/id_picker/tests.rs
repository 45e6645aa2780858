//! Which ids the list shows: bursts entering a view's worth at a time,
//! reading up, rooms opening, one's own unsent messages.

use super::*;
use crate::chat::log::Status;
use tether_protocol::ChatMessage;

fn msg(seq: u64) -> ChatMessage {
    ChatMessage { room: "r".into(), seq, id: format!("m{seq}"), author: "bob".into(), body: String::new(), ts_ms: 0 }
}

/// A room's log holding stored messages `m1..=mN`.
fn log_of(n: u64) -> RoomLog {
    let mut l = RoomLog::default();
    l.joined("e".into(), false, (1..=n).map(msg).collect(), "me");
    l
}

fn more(l: &mut RoomLog, seqs: std::ops::RangeInclusive<u64>) {
    for s in seqs {
        l.apply(msg(s), "me");
    }
}

fn ask(room: &str, tick: u32, following: bool) -> Ask<'_> {
    Ask { room, window: WINDOW, tick, following, per_update: 10 }
}

fn ids(from: u64, to: u64) -> Vec<String> {
    (from..=to).map(|s| format!("m{s}")).collect()
}

/// Opens room "r" on `l` and returns what it shows.
fn first_pick(picker: &mut IdPicker, l: &RoomLog) -> Vec<String> {
    picker.pick(ask("r", 0, true), Some(l), None).ids
}

/// A picker that opened room "r" on `l` and filled its window, following,
/// and what it shows.
fn opened_and_filled(l: &RoomLog) -> (IdPicker, Vec<String>) {
    let mut picker = IdPicker::default();
    let shown = first_pick(&mut picker, l);
    let shown = filled(&mut picker, l, ask("r", 0, true), shown);
    (picker, shown)
}

/// Ticks until the window has filled in; returns what shows then.
fn filled(picker: &mut IdPicker, l: &RoomLog, a: Ask, mut shown: Vec<String>) -> Vec<String> {
    for tick in 1..100 {
        let p = picker.pick(Ask { tick: a.tick.wrapping_add(tick), ..a }, Some(l), Some(&shown));
        shown = p.ids;
        if !p.fill_more {
            return shown;
        }
    }
    panic!("never filled in: {} rows", shown.len());
}

#[test]
fn a_room_opens_with_a_view_and_fills_in_above_on_each_tick_only() {
    let l = log_of(500);
    let mut picker = IdPicker::default();
    let p = picker.pick(ask("r", 0, true), Some(&l), None);
    assert_eq!(p, Pick { ids: ids(491, 500), fill_more: true }, "a view's worth of the newest");
    let again = picker.pick(ask("r", 0, true), Some(&l), Some(&p.ids));
    assert_eq!(again.ids, p.ids, "another run in the same frame adds nothing");
    let mut shown = again.ids;
    for tick in 1..=19 {
        let p = picker.pick(ask("r", tick, true), Some(&l), Some(&shown));
        assert_eq!(p.ids.len(), 10 + 10 * tick as usize);
        assert_eq!(p.fill_more, tick < 19, "tick {tick}");
        shown = p.ids;
    }
    assert_eq!(shown, ids(301, 500), "the window, newest last");
}

#[test]
fn a_few_new_messages_enter_with_the_shown_rows_and_a_burst_shows_only_its_newest() {
    let mut l = log_of(20);
    let mut picker = IdPicker::default();
    let shown = first_pick(&mut picker, &l);
    let shown = picker.pick(ask("r", 1, true), Some(&l), Some(&shown)).ids;
    assert_eq!(shown, ids(1, 20));
    more(&mut l, 21..=23);
    let p = picker.pick(ask("r", 1, true), Some(&l), Some(&shown));
    assert_eq!(p, Pick { ids: ids(1, 23), fill_more: false }, "3 enter, none leaves");
    more(&mut l, 24..=100);
    let p = picker.pick(ask("r", 1, true), Some(&l), Some(&p.ids));
    assert_eq!(p, Pick { ids: ids(91, 100), fill_more: true }, "77 enter: the view's worth of the newest");
}

#[test]
fn reading_up_shows_the_whole_window_and_a_new_room_starts_over() {
    let l = log_of(500);
    let mut picker = IdPicker::default();
    let shown = first_pick(&mut picker, &l);
    let reading = Ask { window: 350, ..ask("r", 0, false) };
    let p = picker.pick(reading, Some(&l), Some(&shown));
    assert_eq!(p, Pick { ids: ids(151, 500), fill_more: false });
    // Another room: the grown window and not following are the old room's.
    let other = log_of(400);
    let p = picker.pick(Ask { room: "o", ..reading }, Some(&other), Some(&p.ids));
    assert_eq!(p, Pick { ids: ids(391, 400), fill_more: true }, "a view's worth, as on first opening");
    // A view taller than the default window: still only the default window.
    let mut picker = IdPicker::default();
    let tall = Ask { per_update: 300, ..reading };
    assert_eq!(picker.pick(tall, Some(&other), None), Pick { ids: ids(201, 400), fill_more: false });
}

#[test]
fn a_full_window_moves_on_while_following_and_shrinks_back_from_reading() {
    let mut l = log_of(500);
    let (mut picker, shown) = opened_and_filled(&l);
    assert_eq!(shown, ids(301, 500));
    more(&mut l, 501..=503);
    let p = picker.pick(ask("r", 20, true), Some(&l), Some(&shown));
    assert_eq!(p, Pick { ids: ids(304, 503), fill_more: false }, "3 in below, the 3 oldest gone");
    let reading = Ask { window: 450, ..ask("r", 20, false) };
    let p = picker.pick(reading, Some(&l), Some(&p.ids));
    assert_eq!(p.ids, ids(54, 503));
    let p = picker.pick(ask("r", 20, true), Some(&l), Some(&p.ids));
    assert_eq!(p, Pick { ids: ids(304, 503), fill_more: false }, "back at the newest: the window again");
}

#[test]
fn a_room_is_opened_until_it_shows_a_row() {
    let mut picker = IdPicker::default();
    let reading = Ask { window: 350, ..ask("r", 0, false) };
    assert_eq!(picker.pick(reading, None, None), Pick { ids: vec![], fill_more: false }, "not joined yet");
    let empty = RoomLog::default();
    assert!(picker.pick(reading, Some(&empty), Some(&[])).ids.is_empty());
    let l = log_of(500);
    let p = picker.pick(reading, Some(&l), Some(&[]));
    assert_eq!(p, Pick { ids: ids(491, 500), fill_more: true }, "its history came after the switch");
}

#[test]
fn ones_own_unsent_messages_stay_last_and_apart_from_the_rows_entering() {
    let mut l = log_of(3);
    let mut picker = IdPicker::default();
    let mine: Vec<String> = (0..12).map(|i| format!("own{i}")).collect();
    for id in &mine {
        l.add_own(id.clone(), "me".into(), "hi".into(), Status::Failed, 0.0);
    }
    let p = picker.pick(ask("r", 0, true), Some(&l), None);
    assert_eq!(p.ids, [ids(1, 3), mine.clone()].concat(), "all 12 shown, with the stored rows");
    more(&mut l, 4..=5);
    let p = picker.pick(ask("r", 0, true), Some(&l), Some(&p.ids));
    assert_eq!(p.ids, [ids(1, 5), mine.clone()].concat(), "others' go in above, none leaves the top");
    more(&mut l, 6..=60);
    let p = picker.pick(ask("r", 0, true), Some(&l), Some(&p.ids));
    assert_eq!(p, Pick { ids: [ids(51, 60), mine.clone()].concat(), fill_more: true });
    let p = picker.pick(ask("r", 1, true), Some(&l), Some(&p.ids));
    assert_eq!(p.ids, [ids(51, 60), mine.clone()].concat(), "not on the tick right after the burst");
    let p = picker.pick(ask("r", 2, true), Some(&l), Some(&p.ids));
    assert_eq!(p.ids, [ids(41, 60), mine].concat(), "and the rest fills in above");
}

#[test]
fn others_messages_arriving_below_only_unsent_rows_enter_as_usual() {
    let mut l = RoomLog::default();
    l.joined("e".into(), false, vec![], "me");
    l.add_own("mine".into(), "me".into(), "hi".into(), Status::Sent, 0.0);
    let mut picker = IdPicker::default();
    let p = picker.pick(ask("r", 0, true), Some(&l), None);
    assert_eq!(p.ids, ["mine"]);
    more(&mut l, 1..=4);
    let p = picker.pick(ask("r", 0, true), Some(&l), Some(&p.ids));
    assert_eq!(p, Pick { ids: [ids(1, 4), vec!["mine".into()]].concat(), fill_more: false });
    more(&mut l, 5..=40);
    let p = picker.pick(ask("r", 0, true), Some(&l), Some(&p.ids));
    assert_eq!(p.ids, [ids(31, 40), vec!["mine".into()]].concat(), "a burst: its newest view's worth");
}

#[test]
fn a_burst_stored_with_ones_own_message_still_enters_a_view_at_a_time() {
    let mut l = log_of(2);
    let mut picker = IdPicker::default();
    l.add_own("mine".into(), "me".into(), "hi".into(), Status::Sent, 0.0);
    let p = picker.pick(ask("r", 0, true), Some(&l), None);
    more(&mut l, 3..=50);
    l.ack("mine", 51);
    let p = picker.pick(ask("r", 0, true), Some(&l), Some(&p.ids));
    assert_eq!(p.ids, [ids(42, 50), vec!["mine".into()]].concat());
    assert!(p.fill_more);
}

#[test]
fn ones_own_message_stored_moves_to_its_place_without_dropping_a_row() {
    let mut l = log_of(2);
    let mut picker = IdPicker::default();
    l.add_own("mine".into(), "me".into(), "hi".into(), Status::Sent, 0.0);
    let p = picker.pick(ask("r", 0, true), Some(&l), None);
    more(&mut l, 3..=3);
    l.ack("mine", 4);
    let p = picker.pick(ask("r", 0, true), Some(&l), Some(&p.ids));
    assert_eq!(p.ids, ["m1", "m2", "m3", "mine"], "others' message and the ack in one update: the top row stays");
}

#[test]
fn a_burst_stored_with_ones_own_message_in_a_full_window_enters_a_view_at_a_time() {
    let mut l = log_of(300);
    l.add_own("mine".into(), "me".into(), "hi".into(), Status::Sent, 0.0);
    let (mut picker, shown) = opened_and_filled(&l);
    assert_eq!(shown, [ids(102, 300), vec!["mine".into()]].concat());
    more(&mut l, 301..=400);
    l.ack("mine", 401);
    let p = picker.pick(ask("r", 99, true), Some(&l), Some(&shown));
    assert_eq!(p, Pick { ids: [ids(392, 400), vec!["mine".into()]].concat(), fill_more: true });
}

#[test]
fn failed_messages_left_between_count_nothing_as_shown() {
    // Failed own messages stay last in the log, unsent; once a later own
    // message is stored they sit between rows in what was shown, and must
    // not make new rows look shown.
    let mut l = log_of(20);
    for i in 0..12 {
        l.add_own(format!("f{i}"), "me".into(), "hi".into(), Status::Failed, 0.0);
    }
    l.add_own("mine".into(), "me".into(), "hi".into(), Status::Sent, 0.0);
    let (mut picker, shown) = opened_and_filled(&l);
    more(&mut l, 21..=40);
    l.ack("mine", 41);
    let p = picker.pick(ask("r", 99, true), Some(&l), Some(&shown));
    let failed: Vec<String> = (0..12).map(|i| format!("f{i}")).collect();
    assert_eq!(p.ids, [ids(32, 40), vec!["mine".into()], failed].concat(), "a burst: its newest");
}

#[test]
fn rows_entering_on_a_fill_tick_take_from_its_share() {
    let mut l = log_of(300);
    let mut picker = IdPicker::default();
    let shown = first_pick(&mut picker, &l);
    assert_eq!(shown.len(), 10);
    more(&mut l, 301..=305);
    let p = picker.pick(ask("r", 1, true), Some(&l), Some(&shown));
    assert_eq!(p.ids, ids(286, 305), "5 below and 5 above: 10 rows put in, the view's worth");
}

#[test]
fn as_many_entering_as_fill_the_view_join_the_shown_rows() {
    let mut l = log_of(30);
    let (mut picker, shown) = opened_and_filled(&l);
    more(&mut l, 31..=40);
    let p = picker.pick(ask("r", 99, true), Some(&l), Some(&shown));
    assert_eq!(p, Pick { ids: ids(1, 40), fill_more: false }, "10 is not a burst");
    more(&mut l, 41..=51);
    let p = picker.pick(ask("r", 99, true), Some(&l), Some(&p.ids));
    assert_eq!(p, Pick { ids: ids(42, 51), fill_more: true }, "11 is");
}

#[test]
fn history_replaced_while_following_starts_from_the_newest() {
    let mut l = log_of(50);
    let (mut picker, shown) = opened_and_filled(&l);
    // The server's history was reset: other ids, none of them shown.
    l.joined("e2".into(), false, (1..=50).map(|s| ChatMessage { id: format!("n{s}"), ..msg(s) }).collect(), "me");
    let p = picker.pick(ask("r", 99, true), Some(&l), Some(&shown));
    let newest: Vec<String> = (41..=50).map(|s| format!("n{s}")).collect();
    assert_eq!(p, Pick { ids: newest, fill_more: true });
}

#[test]
fn a_fill_tick_right_after_a_burst_fills_nothing_and_the_next_one_does() {
    let mut l = log_of(20);
    let (mut picker, shown) = opened_and_filled(&l);
    more(&mut l, 21..=100);
    let p = picker.pick(ask("r", 50, true), Some(&l), Some(&shown));
    assert_eq!(p, Pick { ids: ids(91, 100), fill_more: true }, "a burst: its newest");
    // The next frame: another batch first, a burst again, then the tick.
    more(&mut l, 101..=150);
    let p = picker.pick(ask("r", 50, true), Some(&l), Some(&p.ids));
    assert_eq!(p.ids, ids(141, 150));
    let p = picker.pick(ask("r", 51, true), Some(&l), Some(&p.ids));
    assert_eq!(p, Pick { ids: ids(141, 150), fill_more: true }, "the tick after a burst adds none");
    let p = picker.pick(ask("r", 52, true), Some(&l), Some(&p.ids));
    assert_eq!(p, Pick { ids: ids(131, 150), fill_more: true }, "the burst over, the next tick fills");
}

#[test]
fn a_run_between_a_burst_and_the_tick_lets_the_tick_fill() {
    let mut l = log_of(20);
    let (mut picker, shown) = opened_and_filled(&l);
    more(&mut l, 21..=100);
    let p = picker.pick(ask("r", 50, true), Some(&l), Some(&shown));
    assert!(p.fill_more, "a burst");
    let p = picker.pick(ask("r", 50, true), Some(&l), Some(&p.ids));
    assert_eq!(p.ids, ids(91, 100), "a run with nothing new");
    let p = picker.pick(ask("r", 51, true), Some(&l), Some(&p.ids));
    assert_eq!(p.ids, ids(81, 100), "the tick fills as usual");
    // Scrolled up after a burst: the whole window, and back down it starts clean.
    more(&mut l, 101..=150);
    let p = picker.pick(ask("r", 51, true), Some(&l), Some(&p.ids));
    assert_eq!(p.ids, ids(141, 150));
    let p = picker.pick(ask("r", 51, false), Some(&l), Some(&p.ids));
    assert_eq!(p.ids, ids(1, 150), "reading up: the whole window");
    let p = picker.pick(ask("r", 52, true), Some(&l), Some(&p.ids));
    assert_eq!(p.ids, ids(1, 150), "following again: nothing taken away");
}
