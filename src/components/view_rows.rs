//! How many rows fill the message list's view, and one more above and
//! below: what the list puts in per update while it follows a burst. Each
//! row put in costs style and layout (about half a millisecond on a slow
//! 2-core machine); fewer would leave the view part empty, more is work
//! nobody sees in that frame. Pure: the list reports what it measured once
//! laid out.

/// A row's height before any was measured: a line of small text, so the
/// first burst rather puts in too many than leaves the view part empty.
const ROW_GUESS_PX: f64 = 16.0;
/// Fewest rows per update: a view only a few rows tall still gets a screenful.
const MIN_ROWS: usize = 8;
/// Most rows per update, also for a view of unknown height: bounds the
/// layout one update can cost on a huge screen.
const MAX_ROWS: usize = 60;

/// What the list measured of its view and rows, kept between updates (a
/// burst's first frame goes by the last one's).
#[derive(Debug)]
pub struct ViewRows {
    view_px: f64,
    /// The shortest row seen (`inf`: none yet).
    row_px: f64,
}

impl ViewRows {
    /// `view_px`: the view's height as far as known (the window's, at first).
    pub fn new(view_px: f64) -> Self {
        Self { view_px, row_px: f64::INFINITY }
    }

    /// The list was laid out with this view height and a row this tall.
    pub fn saw(&mut self, view_px: f64, row_px: f64) {
        if view_px.is_finite() && view_px > 0.0 {
            self.view_px = view_px;
        }
        if row_px.is_finite() && row_px >= 1.0 {
            self.row_px = self.row_px.min(row_px);
        }
    }

    /// Rows to put in per update.
    pub fn rows(&self) -> usize {
        if !self.view_px.is_finite() || self.view_px <= 0.0 {
            return MAX_ROWS;
        }
        let row = if self.row_px.is_finite() { self.row_px } else { ROW_GUESS_PX };
        ((self.view_px / row).ceil() as usize).saturating_add(2).clamp(MIN_ROWS, MAX_ROWS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rows_that_fill_the_view_and_one_each_side() {
        let mut f = ViewRows::new(800.0);
        assert_eq!(f.rows(), 52, "before any row is measured: 16 px rows");
        f.saw(400.0, 29.0);
        assert_eq!(f.rows(), 16, "13.8 rows show");
        f.saw(400.0, 58.0);
        assert_eq!(f.rows(), 16, "a taller row (two lines) does not lower it: the shortest counts");
        f.saw(400.0, 20.0);
        assert_eq!(f.rows(), 22);
    }

    #[test]
    fn within_bounds_whatever_is_measured() {
        let mut f = ViewRows::new(f64::NAN);
        assert_eq!(f.rows(), MAX_ROWS);
        f.saw(10_000.0, 20.0);
        assert_eq!(f.rows(), MAX_ROWS);
        f.saw(20.0, 0.0);
        assert_eq!(f.rows(), MIN_ROWS, "a 0 px row is not taken");
        f.saw(-5.0, f64::NAN);
        assert_eq!(f.rows(), MIN_ROWS, "nor a negative view");
    }
}
