<?php /* failed.php: a page that could not be drawn; the layout shows $errors. */ ?>
<section class="card center">
  <h1><?= h($title) ?></h1>
  <p class="muted">Go back to <a href="/profile">your profile</a>, or reload this page in a moment.</p>
</section>
