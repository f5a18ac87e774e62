//! SVG heatmaps of categories (plotters): panels of labelled cells, each
//! coloured by the category it shows, such as the winning policy.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plot::COLORS;

/// One cell of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatCell {
    /// Row, 0 at the top.
    pub row: usize,
    /// Column, 0 at the left.
    pub col: usize,
    /// The category (an index into [`Heatmap::legend`]) that colours it;
    /// `None` leaves it grey.
    pub category: Option<usize>,
    /// Drawn pale: the category is not clearly ahead (a tie).
    pub pale: bool,
    /// Text lines written in the cell, the first larger.
    pub lines: Vec<String>,
}

/// One panel: a grid of cells under a title.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatPanel {
    /// Title above the grid.
    pub title: String,
    /// Its cells.
    pub cells: Vec<HeatCell>,
}

/// Panels sharing row and column labels and a legend.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// Title above everything.
    pub title: String,
    /// What the rows are, with unit (written above the row labels).
    pub row_axis: String,
    /// What the columns are, with unit (written below the column labels).
    pub col_axis: String,
    /// Row labels, top to bottom.
    pub rows: Vec<String>,
    /// Column labels, left to right.
    pub cols: Vec<String>,
    /// Panels, row by row, `panel_columns` to a row.
    pub panels: Vec<HeatPanel>,
    /// Panels per row of panels.
    pub panel_columns: usize,
    /// The categories' names, in colour order.
    pub legend: Vec<String>,
    /// A note under the legend (what pale cells mean).
    pub note: String,
}

/// Pixel sizes of the layout.
const CELL_W: i32 = 170;
const CELL_H: i32 = 64;
const ROW_LABELS_W: i32 = 90;
const PANEL_TITLE_H: i32 = 30;
const COL_LABELS_H: i32 = 44;
const PAD: i32 = 12;
const TITLE_H: i32 = 44;
const LEGEND_H: i32 = 64;

/// Render the heatmap as an SVG document.
pub fn render_heatmap_svg(map: &Heatmap) -> Result<String, String> {
    if map.panels.is_empty() || map.rows.is_empty() || map.cols.is_empty() {
        return Err(format!("heatmap `{}` has nothing to show", map.title));
    }
    let panel_columns = map.panel_columns.max(1);
    let panel_rows = map.panels.len().div_ceil(panel_columns);
    let panel_w = ROW_LABELS_W + CELL_W * map.cols.len() as i32 + 2 * PAD;
    let panel_h = PANEL_TITLE_H + CELL_H * map.rows.len() as i32 + COL_LABELS_H + PAD;
    let width = (panel_w * panel_columns as i32).max(640);
    let height = TITLE_H + panel_h * panel_rows as i32 + LEGEND_H;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (width as u32, height as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let style = |size: i32| ("sans-serif", size).into_font().color(&BLACK);
        let centered = Pos::new(HPos::Center, VPos::Center);
        let text = |s: &str, at: (i32, i32), size: i32, pos: Pos| {
            root.draw(&Text::new(s.to_string(), at, style(size).pos(pos)))
                .map_err(|e| e.to_string())
        };
        text(&map.title, (width / 2, TITLE_H / 2), 20, centered)?;
        for (k, panel) in map.panels.iter().enumerate() {
            let origin = (
                (k % panel_columns) as i32 * panel_w + PAD,
                TITLE_H + (k / panel_columns) as i32 * panel_h,
            );
            draw_panel(&root, map, panel, origin)?;
        }
        draw_legend(&root, map, height - LEGEND_H)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// One panel, its top-left corner at `origin` (pixels).
fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    map: &Heatmap,
    panel: &HeatPanel,
    origin: (i32, i32),
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let font = |size: i32| ("sans-serif", size).into_font().color(&BLACK);
    let (x0, y0) = (origin.0 + ROW_LABELS_W, origin.1 + PANEL_TITLE_H);
    let grid_w = CELL_W * map.cols.len() as i32;
    let centered = Pos::new(HPos::Center, VPos::Center);
    let at = |s: &str, p: (i32, i32), size: i32, pos: Pos| {
        Text::new(s.to_string(), p, font(size).pos(pos))
    };
    root.draw(&at(
        &panel.title,
        (x0 + grid_w / 2, origin.1 + 14),
        16,
        centered,
    ))
    .map_err(err)?;
    root.draw(&at(
        &map.row_axis,
        (x0 - 8, y0 - 10),
        12,
        Pos::new(HPos::Right, VPos::Center),
    ))
    .map_err(err)?;
    for (r, label) in map.rows.iter().enumerate() {
        let y = y0 + CELL_H * r as i32 + CELL_H / 2;
        root.draw(&at(
            label,
            (x0 - 8, y),
            13,
            Pos::new(HPos::Right, VPos::Center),
        ))
        .map_err(err)?;
    }
    let y_below = y0 + CELL_H * map.rows.len() as i32;
    for (c, label) in map.cols.iter().enumerate() {
        let x = x0 + CELL_W * c as i32 + CELL_W / 2;
        root.draw(&at(label, (x, y_below + 12), 13, centered))
            .map_err(err)?;
    }
    root.draw(&at(
        &map.col_axis,
        (x0 + grid_w / 2, y_below + 32),
        12,
        centered,
    ))
    .map_err(err)?;
    for cell in &panel.cells {
        let corner = (x0 + CELL_W * cell.col as i32, y0 + CELL_H * cell.row as i32);
        draw_cell(root, cell, corner)?;
    }
    Ok(())
}

/// One cell, its top-left corner at `corner` (pixels): the fill, a white
/// border, the lines centred.
fn draw_cell<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    cell: &HeatCell,
    corner: (i32, i32),
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let (cx, cy) = corner;
    let fill = match cell.category {
        Some(k) if cell.pale => COLORS[k % COLORS.len()].mix(0.3),
        Some(k) => COLORS[k % COLORS.len()].mix(1.0),
        None => RGBColor(200, 200, 200).mix(1.0),
    };
    let rect = [(cx, cy), (cx + CELL_W, cy + CELL_H)];
    root.draw(&Rectangle::new(rect, fill.filled()))
        .map_err(err)?;
    root.draw(&Rectangle::new(rect, WHITE.stroke_width(2)))
        .map_err(err)?;
    // Dark text on pale cells, white on full colours.
    let ink = if cell.pale || cell.category.is_none() {
        BLACK
    } else {
        WHITE
    };
    let n = cell.lines.len() as i32;
    for (i, line) in cell.lines.iter().enumerate() {
        let y = cy + CELL_H / 2 + (2 * i as i32 - (n - 1)) * 8;
        let size = if i == 0 { 14 } else { 11 };
        let style = ("sans-serif", size)
            .into_font()
            .color(&ink)
            .pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new(line.clone(), (cx + CELL_W / 2, y), style))
            .map_err(err)?;
    }
    Ok(())
}

/// The legend: a swatch and name per category, then the note.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    map: &Heatmap,
    top: i32,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let font = ("sans-serif", 13).into_font().color(&BLACK);
    let left = Pos::new(HPos::Left, VPos::Center);
    let mut x = PAD;
    for (k, name) in map.legend.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        root.draw(&Rectangle::new(
            [(x, top + 8), (x + 16, top + 24)],
            color.filled(),
        ))
        .map_err(err)?;
        root.draw(&Text::new(name.clone(), (x + 22, top + 16), font.pos(left)))
            .map_err(err)?;
        // Room for the name at about 7 px a character.
        x += 40 + 7 * name.len() as i32;
    }
    root.draw(&Text::new(
        map.note.clone(),
        (PAD, top + 44),
        ("sans-serif", 12).into_font().color(&BLACK).pos(left),
    ))
    .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> Heatmap {
        let cell = |row, col, category, pale| HeatCell {
            row,
            col,
            category,
            pale,
            lines: vec![format!("p{row}{col}"), "tie".into()],
        };
        Heatmap {
            title: "Winners".into(),
            row_axis: "lifetime".into(),
            col_axis: "u_c (Mb/s)".into(),
            rows: vec!["0-5 s".into(), "50-100 s".into()],
            cols: vec!["32".into(), "128".into()],
            panels: vec![HeatPanel {
                title: "zipf, 2 req/s".into(),
                cells: vec![
                    cell(0, 0, Some(0), false),
                    cell(0, 1, Some(1), true),
                    cell(1, 0, None, false),
                    cell(1, 1, Some(7), false),
                ],
            }],
            panel_columns: 2,
            legend: vec!["iso".into(), "cross-opt".into()],
            note: "pale: a tie".into(),
        }
    }

    #[test]
    fn renders_every_label_and_cell() {
        let svg = render_heatmap_svg(&map()).unwrap();
        assert!(svg.starts_with("<svg"));
        for text in [
            "Winners",
            "lifetime",
            "u_c (Mb/s)",
            "0-5 s",
            "50-100 s",
            "zipf, 2 req/s",
            "p00",
            "p11",
            "cross-opt",
            "pale: a tie",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert_eq!(svg, render_heatmap_svg(&map()).unwrap());
    }

    #[test]
    fn an_empty_heatmap_is_an_error() {
        let mut m = map();
        m.panels.clear();
        assert!(render_heatmap_svg(&m).is_err());
    }
}
